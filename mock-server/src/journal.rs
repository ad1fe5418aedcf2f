//! The request journal: every request with what was answered and why, kept in memory (bounded)
//! and optionally appended to a JSON Lines file, so a test can assert what a connector sent and a
//! support engineer can see both sides of an exchange. Kept: the request's headers (not
//! `Authorization`: its ikey and signature have fields of their own), a bounded prefix of its body,
//! who signed and whether the signature held, and the answer's headers and a bounded prefix of its
//! body. Never a secret: no skey, no `Authorization` value, no credential header of a proxy.
//!
//! Entries are kept compact (one buffer per side) and turned into [`JournalEntry`] only when read:
//! formatting every request for the few that are read cost more than the rest of a tiny answer.
//! The same arrival and answer also feed `serve -v`'s one log line a request.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use bytes::Bytes;
use http_body::Body as _;
use serde::Serialize;

use crate::api_error::ApiError;
use crate::body::{Resumed, TakenFrames};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Entries kept in memory; older ones are dropped (the file, if any, keeps everything).
pub const DEFAULT_CAPACITY: usize = 10_000;
/// Bytes of each request and answer body kept by default (`serve --journal-bodies N`).
pub const DEFAULT_BODY_BYTES: usize = 4096;
/// Most bytes of request headers kept per entry; headers past it are counted, not kept.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// What the value of a header carrying another credential (`Proxy-Authorization`, `Cookie`,
/// `X-Duo-Mock-Token`) reads as.
const REDACTED: &str = "<redacted>";

/// One request as the fake saw and answered it (the public schema, `docs/control-api.md`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct JournalEntry {
    /// Position since the server started, from 1 (a clear does not restart it).
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
    /// The request's headers by lower-case name (repeats joined with `, `), without
    /// `Authorization`; `Proxy-Authorization`, `Cookie` and `X-Duo-Mock-Token` as `<redacted>`.
    pub request_headers: BTreeMap<String, String>,
    /// Headers left out past [`MAX_HEADER_BYTES`].
    pub request_headers_omitted: u32,
    /// The first bytes of the request body the fake read (UTF-8, invalid sequences replaced);
    /// `None` when it had none or did not read it.
    pub request_body: Option<String>,
    /// The request body's whole length, when the fake read it.
    pub request_body_bytes: Option<u64>,
    /// The ikey of the `Authorization` header, known or not.
    pub ikey: Option<String>,
    /// The signature of the `Authorization` header when it is 40 or 128 hex digits (anything
    /// else, such as a secret sent in its place, is not recorded).
    pub signature_hex: Option<String>,
    /// The integration's name when the ikey is known (even if its signature failed).
    pub integration: Option<String>,
    /// Signature scheme that matched (`v5`, `v2-sha1`, …), if one did.
    pub signature: Option<&'static str>,
    /// Whether the signature matched the request: `None` when it was not checked (no
    /// credentials, an unsigned route, or a check that stopped earlier: date, window, ikey).
    pub signature_valid: Option<bool>,
    /// The code the signature checks refused the request with (40101–40105, 40112), also when a
    /// fault rule answered first; `None` when they passed or did not run.
    pub auth_error: Option<u32>,
    /// HTTP status answered (0 when the connection was cut instead).
    pub status: u16,
    /// Duo's error code, for Duo error answers.
    pub duo_code: Option<u32>,
    /// The fault rule that shaped the answer, by name.
    pub fault: Option<String>,
    /// The scenario's `[[changes]]` entry that last changed the signing integration's grants
    /// (so a 403 40301 after it names what took the grant away).
    pub change: Option<String>,
    /// The answer's headers as the fake set them, by lower-case name (the HTTP layer adds
    /// `content-length` and, without a clock offset, `date`).
    pub response_headers: BTreeMap<String, String>,
    /// The first bytes of the answer's body (UTF-8, invalid sequences replaced).
    pub response_body: String,
    /// The answer body's whole length, when known before it is sent.
    pub response_body_bytes: Option<u64>,
    /// Time to the response head, microseconds.
    pub latency_us: u64,
    /// The client's address.
    pub peer: Option<String>,
}

/// The ikey and signature of a request's `Authorization` header, kept inline (no allocation on
/// the signed path): an ikey of up to 64 bytes (Duo's have 20) and a signature only when it is 40
/// or 128 hex digits.
#[derive(Clone, Copy)]
pub struct SentKey {
    bytes: [u8; 64 + 128],
    ikey_len: u8,
    signature_len: u8,
}

impl Default for SentKey {
    fn default() -> Self {
        Self {
            bytes: [0; 64 + 128],
            ikey_len: 0,
            signature_len: 0,
        }
    }
}

impl std::fmt::Debug for SentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentKey")
            .field("ikey", &self.ikey())
            .field("signature", &self.signature())
            .finish()
    }
}

impl SentKey {
    /// From the decoded header: the ikey, and the signature when `signature` is given (the caller
    /// checked it is one: see [`SentKey::looks_like_signature`]).
    pub fn new(ikey: &str, signature: Option<&[u8]>) -> Self {
        let mut sent = Self::default();
        let mut ikey_len = ikey.len().min(64);
        while !ikey.is_char_boundary(ikey_len) {
            ikey_len -= 1;
        }
        sent.bytes[..ikey_len].copy_from_slice(&ikey.as_bytes()[..ikey_len]);
        sent.ikey_len = ikey_len as u8;
        if let Some(signature) = signature.filter(|s| matches!(s.len(), 40 | 128)) {
            sent.bytes[64..64 + signature.len()].copy_from_slice(signature);
            sent.signature_len = signature.len() as u8;
        }
        sent
    }

    /// 40 (SHA-1) or 128 (SHA-512) hex digits.
    pub fn looks_like_signature(signature: &[u8]) -> bool {
        matches!(signature.len(), 40 | 128) && signature.iter().all(u8::is_ascii_hexdigit)
    }

    /// The ikey, if the request carried one.
    pub fn ikey(&self) -> Option<&str> {
        (self.ikey_len > 0)
            .then(|| std::str::from_utf8(&self.bytes[..usize::from(self.ikey_len)]).ok())
            .flatten()
    }

    /// The signature hex, if kept.
    pub fn signature(&self) -> Option<&str> {
        (self.signature_len > 0)
            .then(|| std::str::from_utf8(&self.bytes[64..64 + usize::from(self.signature_len)]).ok())
            .flatten()
    }
}

/// What the signature checks learnt about the caller, attached to the response for the journal
/// (by the auth layer, or by the journal's own check when a fault rule or the router answered
/// first).
#[derive(Debug, Clone, Default)]
pub struct CallerTag {
    /// Integration name, when the ikey is known.
    pub integration: Option<Arc<str>>,
    /// The `[[changes]]` entry that last changed that integration's grants, by name.
    pub change: Option<Arc<str>>,
    /// Signature scheme that matched.
    pub signature: Option<&'static str>,
    /// Whether the signature matched (`None`: not checked).
    pub signature_valid: Option<bool>,
    /// The signature checks' refusal code.
    pub auth_error: Option<u32>,
    /// The ikey and signature sent.
    pub sent: SentKey,
    /// The first bytes of the request body (a copy: the body itself may share a larger buffer).
    pub request_body: Option<Bytes>,
    /// The request body's whole length, when read.
    pub request_body_bytes: Option<u64>,
}

impl CallerTag {
    /// Keeps the journal's share of a request body that was read: its length, and its first
    /// bytes when the journal keeps bodies.
    pub fn keep_body(&mut self, state: &AppState, body: &Bytes) {
        let journal = state.journal();
        if journal.is_enabled() && !body.is_empty() {
            let keep = body.len().min(journal.body_limit());
            self.request_body = (keep > 0).then(|| Bytes::copy_from_slice(&body[..keep]));
            self.request_body_bytes = Some(body.len() as u64);
        }
    }
}

/// Marks a response whose body holds a secret (an integration's secret key): the journal keeps
/// its headers and none of its body.
#[derive(Debug, Clone, Copy)]
pub struct SecretAnswer;

/// The fault rule applied to a response, attached to it for the journal.
#[derive(Debug, Clone)]
pub struct FaultTag(pub String);

/// The journal: a bounded ring in memory, plus an optional JSON Lines file.
#[derive(Debug)]
pub struct Journal {
    /// Off only when asked (benchmarks, long soaks): requests then pass unrecorded.
    enabled: AtomicBool,
    /// `serve -v`: one log line a request.
    log_requests: AtomicBool,
    /// Bytes of each body kept.
    body_limit: AtomicUsize,
    /// Compact records, turned into [`JournalEntry`] only when read.
    entries: Mutex<VecDeque<Record>>,
    /// Entries kept in memory (`serve --journal-capacity N`).
    capacity: AtomicUsize,
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
    /// Path, query (without its `?`) and the request's headers (`name\0value\n` each), in one
    /// allocation.
    request: Box<[u8]>,
    path_len: usize,
    query_len: usize,
    headers_omitted: u32,
    caller: CallerTag,
    status: u16,
    duo_code: Option<u32>,
    fault: Option<String>,
    /// The answer's headers (`name\0value\n` each) then the first bytes of its body.
    answer: Box<[u8]>,
    answer_headers_len: usize,
    response_body_bytes: Option<u64>,
    latency_us: u64,
    peer: Option<SocketAddr>,
}

impl Record {
    fn entry(&self) -> JournalEntry {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let (path, rest) = self.request.split_at(self.path_len);
        let (query, headers) = rest.split_at(self.query_len);
        let (answer_headers, response_body) = self.answer.split_at(self.answer_headers_len);
        let caller = &self.caller;
        JournalEntry {
            seq: self.seq,
            time: rfc3339_ms(self.unix_ms),
            unix_ms: self.unix_ms,
            method: self.method.as_str().to_owned(),
            path: text(path),
            query: text(query),
            request_headers: header_map(headers),
            request_headers_omitted: self.headers_omitted,
            request_body: caller.request_body.as_deref().map(text),
            request_body_bytes: caller.request_body_bytes,
            ikey: caller.sent.ikey().map(str::to_owned),
            signature_hex: caller.sent.signature().map(str::to_owned),
            integration: caller.integration.as_deref().map(str::to_owned),
            signature: caller.signature,
            signature_valid: caller.signature_valid,
            auth_error: caller.auth_error,
            status: self.status,
            duo_code: self.duo_code,
            fault: self.fault.clone(),
            change: caller.change.as_deref().map(str::to_owned),
            response_headers: header_map(answer_headers),
            response_body: text(response_body),
            response_body_bytes: self.response_body_bytes,
            latency_us: self.latency_us,
            peer: self.peer.map(|p| p.to_string()),
        }
    }
}

/// What the journal keeps of a header's value: `None` to leave the header out (`Authorization`,
/// whose ikey and signature have fields of their own), the redaction mark for another credential.
/// Standard names compare as enums, so the common case costs little.
fn kept_value<'v>(name: &HeaderName, value: &'v HeaderValue) -> Option<&'v [u8]> {
    if name == header::AUTHORIZATION {
        None
    } else if name == header::PROXY_AUTHORIZATION
        || name == header::COOKIE
        || name.as_str() == crate::control::TOKEN_HEADER
    {
        Some(REDACTED.as_bytes())
    } else {
        Some(value.as_bytes())
    }
}

/// Appends `name\0value\n` for each header kept to `out`, up to `budget` bytes in all; returns
/// how many were left out for the budget.
fn write_headers(headers: &HeaderMap, out: &mut Vec<u8>, budget: usize) -> u32 {
    let start = out.len();
    let mut omitted = 0u32;
    for (name, value) in headers {
        let Some(value) = kept_value(name, value) else {
            continue;
        };
        let name = name.as_str();
        if out.len() - start + name.len() + value.len() + 2 > budget {
            omitted += 1;
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.push(0);
        out.extend_from_slice(value);
        out.push(b'\n');
    }
    omitted
}

thread_local! {
    /// Where a request's or an answer's side is written before it is boxed at its exact size:
    /// one pass over the headers, one allocation, whatever their number.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `write` on an empty scratch buffer and returns what it wrote, boxed at its exact size.
fn boxed_exact<R>(write: impl FnOnce(&mut Vec<u8>) -> R) -> (Box<[u8]>, R) {
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buffer) => {
            buffer.clear();
            let result = write(&mut buffer);
            let boxed = Box::from(buffer.as_slice());
            // A huge one-off (a long query) is not kept for every later request.
            if buffer.capacity() > 64 * 1024 {
                *buffer = Vec::new();
            }
            (boxed, result)
        }
        Err(_) => {
            let mut buffer = Vec::new();
            let result = write(&mut buffer);
            (buffer.into_boxed_slice(), result)
        }
    })
}

fn header_map(encoded: &[u8]) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for line in encoded.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let (name, value) = match line.iter().position(|b| *b == 0) {
            Some(at) => (&line[..at], &line[at + 1..]),
            None => (line, &[][..]),
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let value = String::from_utf8_lossy(value);
        map.entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    map
}

/// An entry kept in memory, read in place (see [`Journal::visit_newest`]).
#[derive(Debug, Clone, Copy)]
pub struct Kept<'a>(&'a Record);

impl Kept<'_> {
    /// Its sequence number.
    pub fn seq(&self) -> u64 {
        self.0.seq
    }

    /// The HTTP method.
    pub fn method(&self) -> &str {
        self.0.method.as_str()
    }

    /// The raw path (a URI's path is ASCII).
    pub fn path(&self) -> &str {
        std::str::from_utf8(&self.0.request[..self.0.path_len]).unwrap_or_default()
    }

    /// The raw query string.
    pub fn query(&self) -> &str {
        let start = self.0.path_len;
        std::str::from_utf8(&self.0.request[start..start + self.0.query_len]).unwrap_or_default()
    }

    /// The integration's name, when the ikey was known.
    pub fn integration(&self) -> Option<&str> {
        self.0.caller.integration.as_deref()
    }

    /// The status answered.
    pub fn status(&self) -> u16 {
        self.0.status
    }

    /// The fault rule that shaped the answer.
    pub fn fault(&self) -> Option<&str> {
        self.0.fault.as_deref()
    }

    /// The entry, formatted.
    pub fn entry(&self) -> JournalEntry {
        self.0.entry()
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
            enabled: AtomicBool::new(true),
            log_requests: AtomicBool::new(false),
            body_limit: AtomicUsize::new(DEFAULT_BODY_BYTES),
            // Full size at once: growing the ring copies it while requests wait on the lock.
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(DEFAULT_CAPACITY))),
            capacity: AtomicUsize::new(capacity),
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
        let dropped = if entries.len() >= self.capacity.load(Ordering::Relaxed) {
            entries.pop_front()
        } else {
            None
        };
        entries.push_back(record);
        drop(entries);
        // Freed after the lock is released.
        drop(dropped);
    }

    /// Entries kept in memory at most.
    pub fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Keeps the last `capacity` entries in memory from now on (at least 1), forgetting the
    /// oldest ones beyond it.
    pub fn set_capacity(&self, capacity: usize) {
        let capacity = capacity.max(1);
        self.capacity.store(capacity, Ordering::Relaxed);
        let mut entries = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let excess = entries.len().saturating_sub(capacity);
        entries.drain(..excess);
    }

    /// Visits the entries kept in memory, newest first, until `visit` returns false: a page of
    /// the dashboard reads a 100,000-entry ring without formatting the entries it does not show.
    /// Requests wait for the journal while it runs: keep `visit` cheap.
    pub fn visit_newest(&self, mut visit: impl FnMut(Kept<'_>) -> bool) {
        let entries = match self.entries.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        for record in entries.iter().rev() {
            if !visit(Kept(record)) {
                break;
            }
        }
    }

    /// Turns recording on or off.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    /// Whether requests are recorded.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Turns `serve -v`'s line a request on or off.
    pub fn set_log_requests(&self, on: bool) {
        self.log_requests.store(on, Ordering::Relaxed);
    }

    /// Whether each request is logged.
    pub fn logs_requests(&self) -> bool {
        self.log_requests.load(Ordering::Relaxed)
    }

    /// Whether anything reads what is noted of each request (the journal, or `serve -v`).
    pub fn is_observing(&self) -> bool {
        self.is_enabled() || self.logs_requests()
    }

    /// Keeps the first `bytes` of each request and answer body (0: none).
    pub fn set_body_limit(&self, bytes: usize) {
        self.body_limit.store(bytes, Ordering::Relaxed);
    }

    /// Bytes of each body kept.
    pub fn body_limit(&self) -> usize {
        self.body_limit.load(Ordering::Relaxed)
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

/// How an answer's status reads at a glance, for the dashboard's rows and the kit's timelines:
/// `cut` (0 or 444: the connection was cut), `429`, `2xx`, `3xx`, `4xx` or `5xx`.
pub fn status_kind(status: u16) -> &'static str {
    match status {
        0 | 444 => "cut",
        429 => "429",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
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
    /// As [`Record::request`]; the headers only when the journal records.
    request: Box<[u8]>,
    path_len: usize,
    query_len: usize,
    headers_omitted: u32,
    peer: Option<SocketAddr>,
}

/// Notes a request as it arrives; `None` when neither the journal nor the request log is on.
pub fn arrive(state: &AppState, request: &Request) -> Option<Arrival> {
    let journal = state.journal();
    if !journal.is_observing() {
        return None;
    }
    let recording = journal.is_enabled();
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let (path, query) = (request.uri().path(), request.uri().query().unwrap_or(""));
    let (buffer, headers_omitted) = boxed_exact(|buffer| {
        buffer.extend_from_slice(path.as_bytes());
        buffer.extend_from_slice(query.as_bytes());
        if recording {
            write_headers(request.headers(), buffer, MAX_HEADER_BYTES)
        } else {
            0
        }
    });
    Some(Arrival {
        started: Instant::now(),
        unix_ms,
        method: request.method().clone(),
        request: buffer,
        path_len: path.len(),
        query_len: query.len(),
        headers_omitted,
        peer: request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| *addr),
    })
}

/// Journals (and, with `serve -v`, logs) the answer to `arrival`, taking the tags the inner
/// layers attached to it, and gives the answer the fake's `Date`.
pub fn answer(state: &AppState, arrival: Option<Arrival>, response: Response) -> Response {
    let mut response = with_server_date(state, response);
    let Some(arrival) = arrival else {
        return response;
    };
    let latency_us = u64::try_from(arrival.started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let caller = response
        .extensions_mut()
        .remove::<CallerTag>()
        .unwrap_or_default();
    let fault = response.extensions_mut().remove::<FaultTag>().map(|f| f.0);
    let status = response.status().as_u16();
    let duo_code = response.extensions().get::<ApiError>().map(|e| e.code);
    let journal = state.journal();
    if journal.logs_requests() {
        log_line(
            &arrival,
            status,
            duo_code,
            &caller,
            fault.as_deref(),
            &response,
            latency_us,
        );
    }
    if !journal.is_enabled() {
        return response;
    }
    let secret = response.extensions_mut().remove::<SecretAnswer>().is_some();
    let limit = if secret { 0 } else { journal.body_limit() };
    let (response, answer, answer_headers_len, response_body_bytes) = keep_answer(response, limit);
    journal.record(Record {
        seq: 0,
        unix_ms: arrival.unix_ms,
        method: arrival.method,
        request: arrival.request,
        path_len: arrival.path_len,
        query_len: arrival.query_len,
        headers_omitted: arrival.headers_omitted,
        caller,
        status,
        duo_code,
        fault,
        answer,
        answer_headers_len,
        response_body_bytes,
        latency_us,
        peer: arrival.peer,
    });
    response
}

/// The answer's headers and the first `limit` bytes of its body, in one buffer, and the answer
/// to send, whose body gives back what was read of it. Bodies here are in memory (pages, errors,
/// fault answers): what is ready without waiting is read; a body that would wait is kept from
/// where it stopped.
fn keep_answer(response: Response, limit: usize) -> (Response, Box<[u8]>, usize, Option<u64>) {
    let (parts, mut body) = response.into_parts();
    let whole = body.size_hint().exact();
    let mut taken = TakenFrames::default();
    let mut failed = None;
    let mut ended = false;
    let reads = limit > 0 && !body.is_end_stream();
    let (kept, head_len) = boxed_exact(|kept| {
        write_headers(&parts.headers, kept, usize::MAX);
        let head_len = kept.len();
        if !reads {
            return head_len;
        }
        let mut cx = Context::from_waker(Waker::noop());
        while kept.len() - head_len < limit {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        let room = limit - (kept.len() - head_len);
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                    }
                    taken.push(frame);
                }
                Poll::Ready(Some(Err(error))) => {
                    failed = Some(error);
                    break;
                }
                Poll::Ready(None) => {
                    ended = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        head_len
    });
    let body = if reads {
        axum::body::Body::new(Resumed::new(taken, (!ended).then_some(body), failed))
    } else {
        body
    };
    (Response::from_parts(parts, body), kept, head_len, whole)
}

/// `serve -v`'s line: method, path and query, status, Duo code, integration, latency.
fn log_line(
    arrival: &Arrival,
    status: u16,
    duo_code: Option<u32>,
    caller: &CallerTag,
    fault: Option<&str>,
    response: &Response,
    latency_us: u64,
) {
    /// Longest path and query shown; the journal keeps them whole.
    const SHOWN: usize = 300;
    let target = &arrival.request[..arrival.path_len + arrival.query_len];
    let (path, query) = target.split_at(arrival.path_len);
    let mut shown = String::from_utf8_lossy(path).into_owned();
    if !query.is_empty() {
        shown.push('?');
        shown.push_str(&String::from_utf8_lossy(query));
    }
    if shown.len() > SHOWN {
        let mut end = SHOWN;
        while !shown.is_char_boundary(end) {
            end -= 1;
        }
        shown.truncate(end);
        shown.push('…');
    }
    let code = duo_code.map_or_else(String::new, |c| format!(" {c}"));
    let integration = caller.integration.as_deref().unwrap_or("-");
    let mut notes = String::new();
    if let Some(fault) = fault {
        notes.push_str(&format!(" fault={fault:?}"));
    }
    if response
        .headers()
        .contains_key(crate::routes::NOT_IMPLEMENTED_HEADER)
    {
        notes.push_str(" not-implemented");
    }
    tracing::info!(
        target: "duo_mock::requests",
        "{} {shown} -> {status}{code} integration={integration} latency={latency_us}µs{notes}",
        arrival.method
    );
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
        let mut request = format!("{path}{query}").into_bytes();
        request.extend_from_slice(b"host\0localhost:1\naccept\0*/*\naccept\0text/plain\n");
        Record {
            seq: 0,
            unix_ms: 1_767_225_600_123,
            method: Method::GET,
            request: request.into_boxed_slice(),
            path_len: path.len(),
            query_len: query.len(),
            headers_omitted: 0,
            caller: CallerTag::default(),
            status: 200,
            duo_code: None,
            fault: None,
            answer: b"content-type\0application/json\n{\"stat\""
                .to_vec()
                .into_boxed_slice(),
            answer_headers_len: 30,
            response_body_bytes: Some(20),
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
        assert_eq!(entry.request_headers["host"], "localhost:1");
        assert_eq!(entry.request_headers["accept"], "*/*, text/plain");
        assert_eq!(entry.response_headers["content-type"], "application/json");
        assert_eq!(entry.response_body, "{\"stat\"");
    }

    #[test]
    fn credentials_are_left_out_or_redacted_and_headers_are_bounded() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic c2VjcmV0"));
        headers.insert(
            header::PROXY_AUTHORIZATION,
            HeaderValue::from_static("Basic cHJveHk="),
        );
        headers.insert("x-duo-mock-token", HeaderValue::from_static("tok"));
        headers.insert("x-duo-date", HeaderValue::from_static("now"));
        let mut out = Vec::new();
        assert_eq!(write_headers(&headers, &mut out, usize::MAX), 0);
        let map = header_map(&out);
        assert!(!map.contains_key("authorization"));
        assert_eq!(map["proxy-authorization"], REDACTED);
        assert_eq!(map["x-duo-mock-token"], REDACTED);
        assert_eq!(map["x-duo-date"], "now");
        let mut small = Vec::new();
        assert_eq!(write_headers(&headers, &mut small, 20), 2, "{small:?}");
    }

    #[test]
    fn signatures_are_hex_of_a_digests_length() {
        let hex = "a".repeat(40);
        assert!(SentKey::looks_like_signature(hex.as_bytes()));
        assert!(SentKey::looks_like_signature("0F".repeat(64).as_bytes()));
        assert!(!SentKey::looks_like_signature(
            "sl0wSecretKeyThatMustNeverBeLogged000000".as_bytes()
        ));
        assert!(!SentKey::looks_like_signature("a".repeat(41).as_bytes()));
        assert_eq!(
            SentKey::new("DI1", Some(hex.as_bytes())).signature(),
            Some(hex.as_str())
        );
        assert_eq!(SentKey::new("DI1", None).signature(), None);
        assert_eq!(SentKey::new("DI1", None).ikey(), Some("DI1"));
        let long = "é".repeat(40);
        assert!(SentKey::new(&long, None).ikey().is_some_and(|i| i.len() <= 64));
    }

    #[test]
    fn entries_are_visited_newest_first_and_the_capacity_can_change() {
        let journal = Journal::new(10);
        for i in 0..6 {
            journal.record(record(&format!("/{i}?q={i}")));
        }
        let mut seen = Vec::new();
        journal.visit_newest(|kept| {
            seen.push((kept.seq(), kept.path().to_owned(), kept.query().to_owned()));
            seen.len() < 3
        });
        assert_eq!(
            seen,
            [
                (6, "/5".to_owned(), "q=5".to_owned()),
                (5, "/4".into(), "q=4".into()),
                (4, "/3".into(), "q=3".into())
            ]
        );
        journal.set_capacity(2);
        assert_eq!(
            journal.entries().iter().map(|e| e.seq).collect::<Vec<_>>(),
            [5, 6]
        );
        journal.set_capacity(4);
        for i in 0..5 {
            journal.record(record(&format!("/more{i}")));
        }
        assert_eq!(journal.entries().len(), 4, "the larger capacity holds");
    }
}
