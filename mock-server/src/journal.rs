//! The request journal: every request with what was answered and why, kept in memory (bounded)
//! and optionally appended to a JSON Lines file, so a test can assert what a connector sent.
//! Never records a secret: no `Authorization` header, no body.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Method, header};
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
    pub integration: Option<Arc<str>>,
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
    /// Compact records, turned into [`JournalEntry`] only when read: formatting the time and the
    /// peer for every request, to be read by few, cost more than the rest of a tiny answer.
    entries: Mutex<VecDeque<Record>>,
    capacity: usize,
    next_seq: AtomicU64,
    /// JSON Lines copy of every entry, when asked for.
    file: Mutex<Option<BufWriter<File>>>,
}

/// One request as kept in the ring: what [`JournalEntry`] shows, before formatting.
#[derive(Debug)]
struct Record {
    seq: u64,
    unix_ms: u64,
    method: Method,
    /// Path then query (without its `?`) in one allocation, split at `path_len`.
    target: Box<str>,
    path_len: usize,
    integration: Option<Arc<str>>,
    signature: Option<&'static str>,
    status: u16,
    duo_code: Option<u32>,
    fault: Option<String>,
    latency_us: u64,
    peer: Option<SocketAddr>,
}

impl Record {
    fn entry(&self) -> JournalEntry {
        let (path, query) = self.target.split_at(self.path_len);
        JournalEntry {
            seq: self.seq,
            time: rfc3339_ms(self.unix_ms),
            unix_ms: self.unix_ms,
            method: self.method.as_str().to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            integration: self.integration.as_deref().map(str::to_owned),
            signature: self.signature,
            status: self.status,
            duo_code: self.duo_code,
            fault: self.fault.clone(),
            latency_us: self.latency_us,
            peer: self.peer.map(|p| p.to_string()),
        }
    }
}

impl Default for Journal {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl Journal {
    /// A journal keeping the last `capacity` entries in memory.
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            enabled: std::sync::atomic::AtomicBool::new(true),
            // Full size at once: growing the ring copies it while requests wait on the lock.
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(DEFAULT_CAPACITY))),
            capacity,
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

    fn record(&self, mut record: Record) {
        record.seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let mut file = self.file.lock();
        if let Ok(Some(file)) = file.as_deref_mut() {
            // A journal file that cannot be written must not fail the request.
            if serde_json::to_writer(&mut *file, &record.entry()).is_ok() {
                let _ = file.write_all(b"\n");
                let _ = file.flush();
            }
        }
        drop(file);
        let mut entries = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let dropped = if entries.len() == self.capacity {
            entries.pop_front()
        } else {
            None
        };
        entries.push_back(record);
        drop(entries);
        // Freed after the lock is released.
        drop(dropped);
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
        entries
            .iter()
            .filter(|e| e.seq > after)
            .map(Record::entry)
            .collect()
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

/// What the journal notes of a request as it arrives, until its answer is known.
#[derive(Debug)]
pub struct Arrival {
    started: Instant,
    unix_ms: u64,
    method: Method,
    target: Box<str>,
    path_len: usize,
    peer: Option<SocketAddr>,
}

/// Notes a request as it arrives; `None` when the journal is off.
pub fn arrive(state: &AppState, request: &Request) -> Option<Arrival> {
    if !state.journal().is_enabled() {
        return None;
    }
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let (path, query) = (request.uri().path(), request.uri().query().unwrap_or(""));
    let mut target = String::with_capacity(path.len() + query.len());
    target.push_str(path);
    target.push_str(query);
    Some(Arrival {
        started: Instant::now(),
        unix_ms,
        method: request.method().clone(),
        target: target.into_boxed_str(),
        path_len: path.len(),
        peer: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr),
    })
}

/// Journals the answer to `arrival` (taking the tags the inner layers attached to it) and gives
/// the answer the fake's `Date`.
pub fn answer(state: &AppState, arrival: Option<Arrival>, mut response: Response) -> Response {
    if let Some(arrival) = arrival {
        let caller = response
            .extensions_mut()
            .remove::<CallerTag>()
            .unwrap_or_default();
        let record = Record {
            seq: 0,
            unix_ms: arrival.unix_ms,
            method: arrival.method,
            target: arrival.target,
            path_len: arrival.path_len,
            integration: caller.integration,
            signature: caller.signature,
            status: response.status().as_u16(),
            duo_code: response.extensions().get::<ApiError>().map(|e| e.code),
            fault: response.extensions_mut().remove::<FaultTag>().map(|f| f.0),
            latency_us: u64::try_from(arrival.started.elapsed().as_micros()).unwrap_or(u64::MAX),
            peer: arrival.peer,
        };
        state.journal().record(record);
    }
    with_server_date(state, response)
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

    fn record(target: &str) -> Record {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        Record {
            seq: 0,
            unix_ms: 1_767_225_600_123,
            method: Method::GET,
            target: format!("{path}{query}").into_boxed_str(),
            path_len: path.len(),
            integration: None,
            signature: None,
            status: 200,
            duo_code: None,
            fault: None,
            latency_us: 1,
            peer: Some(SocketAddr::from(([127, 0, 0, 1], 50_000))),
        }
    }

    #[test]
    fn the_ring_keeps_the_newest_entries_and_numbers_all() {
        let journal = Journal::new(3);
        for i in 0..5 {
            journal.record(record(&format!("/{i}")));
        }
        let kept: Vec<(u64, String)> = journal.entries().into_iter().map(|e| (e.seq, e.path)).collect();
        assert_eq!(kept, [(3, "/2".into()), (4, "/3".into()), (5, "/4".into())]);
        assert_eq!(journal.entries_after(4).len(), 1);
        journal.clear();
        assert!(journal.entries().is_empty());
        assert!(journal.is_enabled());
        journal.record(record("/next?limit=1&offset=0"));
        let entry = &journal.entries()[0];
        assert_eq!(entry.seq, 6);
        assert_eq!(entry.time, "2026-01-01T00:00:00.123Z");
        assert_eq!((entry.method.as_str(), entry.path.as_str()), ("GET", "/next"));
        assert_eq!(entry.query, "limit=1&offset=0");
        assert_eq!(entry.peer.as_deref(), Some("127.0.0.1:50000"));
    }
}
