//! Fault rules declared in a scenario (`[[faults]]`): which requests they match (path pattern,
//! method, integration, query parameters, the Nth matching call or the Nth page asked, counted
//! for the server, each integration or each connection, a time window, a seeded probability)
//! and what is
//! answered instead (a Duo error, an intermediary's page, a custom answer, a malformed or drifted
//! body, a delay, a network fault: reset, close, trickle). The first rule that fires wins; every
//! rule whose filters match counts the call.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::api_error::ApiError;
use crate::intermediary::{Canned, Intermediary};
use crate::journal::FaultTag;
use crate::netfault::{ConnectionFault, Cut};
use crate::params::Params;
use crate::state::AppState;

/// A malformed answer with status 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Malformed {
    /// A body that is not JSON.
    InvalidJson,
    /// Valid JSON whose `stat` is neither OK nor FAIL.
    StatNotOk,
    /// `{"stat":"OK"}` without `response`.
    MissingResponse,
    /// The real answer cut in half (with a matching `Content-Length`).
    Truncated,
}

/// A change to otherwise correct answers, as Duo's API evolves (§ "new properties may appear").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drift {
    /// Unknown fields on every object and the envelope.
    ExtraFields,
    /// Status values no client has seen (`quarantined`).
    NewEnumValues,
    /// `null` in optional fields (names, e-mail, last login, phone).
    Nulls,
    /// Keys in reverse order.
    ReorderedKeys,
}

/// What the connection does instead of, or while, carrying the answer (failure catalogue D15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// The connection is reset (TCP RST) before any answer byte.
    Reset,
    /// The real answer's head (with its full `Content-Length`) and half its body are sent, then
    /// the connection is closed (FIN).
    CloseMidBody,
    /// The connection is closed (FIN) without an answer.
    CloseBeforeAnswer,
    /// The real answer is sent slowly, `trickle_bytes_per_s` bytes per second.
    Trickle,
}

impl Network {
    /// The scenario's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::CloseMidBody => "close-mid-body",
            Self::CloseBeforeAnswer => "close-before-answer",
            Self::Trickle => "trickle",
        }
    }
}

/// Default rate of `network = "trickle"`.
pub const DEFAULT_TRICKLE_BYTES_PER_S: u64 = 1024;

/// How `Retry-After` is sent with a Duo error (Duo sends none by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryAfterFormat {
    /// `Retry-After: 5`
    Seconds,
    /// `Retry-After: <HTTP date>` that many seconds ahead.
    HttpDate,
}

/// Which matching calls a rule fires on: `[N]` is the Nth and every later one, `[first, last]`
/// those between (1-based, inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calls {
    /// The first call it fires on.
    pub first: u64,
    /// The last call it fires on (`None`: every later one).
    pub last: Option<u64>,
}

impl Calls {
    /// Whether the `n`th matching call (1-based) is one of these.
    pub fn contains(self, n: u64) -> bool {
        n >= self.first && self.last.is_none_or(|last| n <= last)
    }
}

impl fmt::Display for Calls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.last {
            Some(last) => write!(f, "{} to {last}", self.first),
            None => write!(f, "{} and later", self.first),
        }
    }
}

impl<'de> Deserialize<'de> for Calls {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Vec::<u64>::deserialize(deserializer)?.as_slice() {
            [first] => Ok(Self {
                first: *first,
                last: None,
            }),
            [first, last] => Ok(Self {
                first: *first,
                last: Some(*last),
            }),
            _ => Err(serde::de::Error::custom(
                "calls is [N] (the Nth matching call and every later one) or [first, last]",
            )),
        }
    }
}

/// Whose calls `calls` and `page` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CountPer {
    /// Every caller's calls together: one client's calls use up the rule for the others.
    #[default]
    Server,
    /// Each integration (by its keys; unsigned or unknown callers count together) on its own.
    Integration,
    /// Each TCP connection on its own: a client that reconnects starts over.
    Connection,
}

impl CountPer {
    /// The scenario's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Integration => "integration",
            Self::Connection => "connection",
        }
    }
}

/// One rule as written in the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// A name for the journal and logs (default `fault #N`).
    pub name: Option<String>,
    /// Path pattern; `*` matches any run of characters (default: every path).
    #[serde(default = "any_path")]
    pub path: String,
    /// HTTP method (default: any).
    pub method: Option<String>,
    /// Integration name (default: any caller, signed or not).
    pub integration: Option<String>,
    /// Query parameters that must all be present and match (`*` patterns), decoded.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// The matching calls the rule fires on: `[N]` (the Nth and later) or `[first, last]`.
    pub calls: Option<Calls>,
    /// The page the rule fires on: the Nth distinct `offset` asked on the request's path (a
    /// retry of that page is that page again).
    pub page: Option<u64>,
    /// Whose calls `calls` and `page` count, as written; see [`FaultRule::counted_per`] for the
    /// default.
    #[serde(default)]
    pub count_per: Option<CountPer>,
    /// Seconds after start (or reset) from which the rule fires.
    pub after_s: Option<f64>,
    /// Seconds after start (or reset) until which the rule fires.
    pub until_s: Option<f64>,
    /// Chance of firing on a matching call, decided from the scenario's seed.
    pub probability: Option<f64>,
    /// Wait this long before answering (alone: then answer normally).
    pub delay_ms: Option<u64>,
    /// Answer as Duo with this error code (`42901`, `50000`, …).
    pub duo_error: Option<u32>,
    /// The Duo error's message (defaults for 429, 500, 503).
    pub message: Option<String>,
    /// Send `Retry-After` with the Duo error, this many seconds.
    pub retry_after_s: Option<u64>,
    /// How `Retry-After` is written (default seconds).
    pub retry_after_format: Option<RetryAfterFormat>,
    /// Answer as this intermediary profile.
    pub intermediary: Option<Intermediary>,
    /// A custom answer's status.
    pub status: Option<u16>,
    /// A custom answer's headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A custom answer's body.
    pub body: Option<String>,
    /// A custom answer's body, from a file (relative to the scenario file).
    pub body_file: Option<String>,
    /// A malformed answer.
    pub malformed: Option<Malformed>,
    /// Drift applied to the real answer.
    #[serde(default)]
    pub drift: Vec<Drift>,
    /// A network fault on the connection.
    pub network: Option<Network>,
    /// The rate of `network = "trickle"` (default 1024).
    pub trickle_bytes_per_s: Option<u64>,
    /// Something in the path rewrites the request's date before Duo sees it (D4).
    pub rewrite_date: Option<RewriteDate>,
}

/// How an intermediary changes the request's date header (failure catalogue D4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewriteDate {
    /// `Date` and `X-Duo-Date` are stripped: Duo answers 40104 Missing request timestamp.
    Remove,
    /// The same instant in another format (`GMT` for `-0000`, or back): the signed text changed,
    /// so Duo answers 40103 Invalid signature.
    Reformat,
}

fn any_path() -> String {
    "*".to_owned()
}

impl FaultRule {
    /// Whose count `calls` and `page` read: as written, or by default each integration's for a
    /// rule with `page` ("the Nth page a caller asks") and the server's otherwise (every caller's
    /// calls together, as `calls` always counted).
    pub fn counted_per(&self) -> CountPer {
        self.count_per.unwrap_or(if self.page.is_some() {
            CountPer::Integration
        } else {
            CountPer::Server
        })
    }

    /// Checks the rule; `base` is the scenario file's folder, for `body_file`. Returns the error
    /// message, which the scenario locates at the rule.
    pub fn check(&self, integrations: &[&str], base: &Path) -> Result<(), String> {
        let actions = [
            self.duo_error.is_some(),
            self.intermediary.is_some(),
            self.status.is_some(),
            self.malformed.is_some(),
            !self.drift.is_empty(),
            self.network.is_some(),
            self.rewrite_date.is_some(),
        ]
        .iter()
        .filter(|a| **a)
        .count();
        if actions > 1 {
            return Err(
                "a fault rule takes one of duo_error, intermediary, status (custom answer), malformed, drift, network, rewrite_date"
                    .into(),
            );
        }
        if actions == 0 && self.delay_ms.is_none() {
            return Err(
                "a fault rule needs an action: duo_error, intermediary, status, malformed, drift, network, rewrite_date or delay_ms"
                    .into(),
            );
        }
        if let Some(rate) = self.trickle_bytes_per_s {
            if self.network != Some(Network::Trickle) {
                return Err("trickle_bytes_per_s belongs to network = \"trickle\"".into());
            }
            if rate == 0 {
                return Err("trickle_bytes_per_s must be at least 1".into());
            }
        }
        if !(self.path.starts_with('/') || self.path.starts_with('*')) {
            return Err(format!("path {:?} must start with / or *", self.path));
        }
        if let Some(name) = self
            .integration
            .as_ref()
            .filter(|n| !integrations.contains(&n.as_str()))
        {
            return Err(format!("integration {name:?} is not in this scenario"));
        }
        if let Some(calls) = self
            .calls
            .filter(|c| c.first == 0 || c.last.is_some_and(|last| c.first > last))
        {
            return Err(format!(
                "calls {calls}: calls count from 1 and the first must not exceed the last"
            ));
        }
        if self.page == Some(0) {
            return Err("page counts from 1".into());
        }
        if self.count_per.is_some_and(|c| c != CountPer::Server)
            && self.calls.is_none()
            && self.page.is_none()
        {
            return Err("count_per says whose calls `calls` or `page` count: give one of them".into());
        }
        if self.query.keys().any(String::is_empty) {
            return Err("query: a parameter name must not be empty".into());
        }
        if self.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
            return Err("probability must be between 0 and 1".into());
        }
        if let Some(code) = self.duo_error {
            if !(10_000..=99_999).contains(&code) || !(100..=599).contains(&(code / 100)) {
                return Err(format!(
                    "duo_error {code} is not a five-digit Duo code with an HTTP status as its first three digits"
                ));
            }
            if self.message.is_none() && ApiError::standard_message(code).is_none() {
                return Err(format!(
                    "duo_error {code} needs a message (Duo's text is known for 400xx, 401xx, 40301, 40401, 429xx, 500xx, 503xx codes it has used)"
                ));
            }
        }
        if self.status.is_some_and(|s| !(100..=599).contains(&s)) {
            return Err("status must be between 100 and 599".into());
        }
        if (self.body.is_some() || self.body_file.is_some() || !self.headers.is_empty())
            && self.status.is_none()
        {
            return Err("body, body_file and headers belong to a custom answer: give its status".into());
        }
        if let Some(file) = &self.body_file {
            std::fs::metadata(base.join(file)).map_err(|e| format!("body_file {file:?}: {e}"))?;
        }
        for (name, value) in &self.headers {
            HeaderName::try_from(name.as_str()).map_err(|_| format!("header name {name:?} is not valid"))?;
            HeaderValue::try_from(value.as_str())
                .map_err(|_| format!("header {name}: value is not valid"))?;
        }
        Ok(())
    }
}

impl FaultRule {
    /// The `query` filter as `name=pattern&…`, when there is one.
    pub fn query_text(&self) -> Option<String> {
        let pairs: Vec<String> = self.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        (!pairs.is_empty()).then(|| pairs.join("&"))
    }

    /// The rule in one line for the start-up banner: which calls it matches, then what it does.
    pub fn describe(&self) -> String {
        let mut when = vec![format!(
            "{} {}",
            self.method.as_deref().unwrap_or("any method"),
            self.path
        )];
        if let Some(name) = &self.integration {
            when.push(format!("integration {name:?}"));
        }
        if let Some(query) = self.query_text() {
            when.push(format!("query {query}"));
        }
        if let Some(calls) = self.calls {
            when.push(format!("calls {calls}"));
        }
        if let Some(page) = self.page {
            when.push(format!("page {page}"));
        }
        if self.counted_per() != CountPer::Server {
            when.push(format!("counted per {}", self.counted_per().name()));
        }
        if let Some(t) = self.after_s {
            when.push(format!("from {t} s"));
        }
        if let Some(t) = self.until_s {
            when.push(format!("until {t} s"));
        }
        if let Some(p) = self.probability {
            when.push(format!("probability {p}"));
        }
        let mut does = Vec::new();
        if let Some(ms) = self.delay_ms {
            does.push(format!("delay {ms} ms"));
        }
        if let Some(code) = self.duo_error {
            let retry = self
                .retry_after_s
                .map_or_else(String::new, |s| format!(" with Retry-After {s} s"));
            does.push(format!("Duo error {} {code}{retry}", code / 100));
        }
        if let Some(profile) = self.intermediary {
            does.push(format!("intermediary {}", profile.name()));
        }
        if let Some(status) = self.status {
            does.push(format!("custom answer {status}"));
        }
        if let Some(kind) = self.malformed {
            does.push(format!("malformed {kind:?}"));
        }
        if !self.drift.is_empty() {
            does.push(format!("drift {:?}", self.drift));
        }
        if let Some(kind) = self.network {
            does.push(format!("network {}", kind.name()));
        }
        if let Some(rewrite) = self.rewrite_date {
            does.push(format!("date header {rewrite:?}"));
        }
        format!("{} -> {}", when.join(", "), does.join(", "))
    }
}

/// `*` matches any run of characters, everything else itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|c| *c == b'*'))
}

/// Whose count a call adds to, under a rule's `count_per`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Counter {
    Server,
    Integration(Option<String>),
    Connection(u64),
}

/// Connections whose counts a `count_per = "connection"` rule keeps at least (the most recently
/// opened); older ones are forgotten and, should they ask again, start over.
const KEPT_CONNECTIONS: usize = 4096;

/// One counter's calls, and the pages (offsets, in the order first asked) of each path.
#[derive(Debug, Default)]
struct Counted {
    calls: u64,
    pages: HashMap<String, Vec<String>>,
}

/// What a fault rule may look at in a request.
#[derive(Debug, Clone, Copy)]
struct CallFacts<'a> {
    method: &'a str,
    path: &'a str,
    /// The raw query string (without `?`).
    query: &'a str,
    /// The integration whose ikey was sent, when known.
    integration: Option<&'a str>,
    /// The connection's number (0 when not served by `server::run`).
    connection: u64,
}

/// A rule ready to run: its counter and its body, loaded once.
#[derive(Debug)]
struct LiveRule {
    rule: FaultRule,
    name: String,
    /// Calls its filters matched, every caller together (the dashboard's count).
    calls_seen: AtomicU64,
    /// Counts under `count_per` and pages, when the rule needs more than `calls_seen`.
    counted: Mutex<HashMap<Counter, Counted>>,
    /// Calls it answered (the dashboard's hit count).
    fired: AtomicU64,
    custom_body: Bytes,
}

/// A rule and its counters, as the dashboard shows them.
#[derive(Debug, Clone, Copy)]
pub struct RuleCount<'a> {
    /// Its name (`fault #N` when the scenario gave none).
    pub name: &'a str,
    /// The rule as written.
    pub rule: &'a FaultRule,
    /// Calls its filters (path, method, integration) matched.
    pub calls_seen: u64,
    /// Calls it answered.
    pub fired: u64,
}

/// The scenario's rules with their counters; part of the served world, so a reset starts them
/// over.
#[derive(Debug)]
pub struct FaultSet {
    rules: Vec<LiveRule>,
    started: Instant,
    seed: u64,
}

impl FaultSet {
    /// Compiles `rules` (already checked); `base` is the scenario's folder for `body_file`.
    pub fn new(rules: &[FaultRule], base: &Path, seed: u64) -> Self {
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| LiveRule {
                name: rule.name.clone().unwrap_or_else(|| format!("fault #{}", i + 1)),
                calls_seen: AtomicU64::new(0),
                counted: Mutex::new(HashMap::new()),
                fired: AtomicU64::new(0),
                custom_body: match (&rule.body, &rule.body_file) {
                    (Some(body), _) => Bytes::from(body.clone()),
                    (None, Some(file)) => std::fs::read(base.join(file))
                        .map(Bytes::from)
                        .unwrap_or_default(),
                    (None, None) => Bytes::new(),
                },
                rule: rule.clone(),
            })
            .collect();
        Self {
            rules,
            started: Instant::now(),
            seed,
        }
    }

    /// Whether there are no rules (the common case: the middleware then costs one check).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Each rule, in order, with its counters.
    pub fn counts(&self) -> Vec<RuleCount<'_>> {
        self.rules
            .iter()
            .map(|live| RuleCount {
                name: &live.name,
                rule: &live.rule,
                calls_seen: live.calls_seen.load(Ordering::Relaxed),
                fired: live.fired.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// The rule that fires for this call, counting it for every rule whose filters match.
    fn select(&self, call: CallFacts<'_>) -> Option<(usize, &LiveRule)> {
        let elapsed = self.started.elapsed().as_secs_f64();
        let params = std::cell::OnceCell::new();
        let params = || params.get_or_init(|| Params::parse(call.query.as_bytes()));
        let mut chosen = None;
        for (i, live) in self.rules.iter().enumerate() {
            let rule = &live.rule;
            let filters = rule
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(call.method))
                && rule
                    .integration
                    .as_deref()
                    .is_none_or(|name| Some(name) == call.integration)
                && glob_matches(&rule.path, call.path)
                && query_matches(&rule.query, params);
            if !filters {
                continue;
            }
            let every = live.calls_seen.fetch_add(1, Ordering::Relaxed) + 1;
            let (n, page) = live.count(call, params, every);
            let fires = rule.calls.is_none_or(|calls| calls.contains(n))
                && rule.page.is_none_or(|wanted| page == Some(wanted))
                && rule.after_s.is_none_or(|t| elapsed >= t)
                && rule.until_s.is_none_or(|t| elapsed < t)
                && rule.probability.is_none_or(|p| self.draw(i, every) < p);
            if fires && chosen.is_none() {
                chosen = Some((i, live));
            }
        }
        chosen
    }

    /// A uniform number in [0, 1) from (seed, rule, call): the same calls fire on every run.
    fn draw(&self, rule: usize, call: u64) -> f64 {
        let mut x = self.seed ^ (rule as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ call.rotate_left(32);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl LiveRule {
    /// This call's number among its counter's matching calls, and (for a rule with `page`) the
    /// page it asks: the position of its `offset` (default 0) among the distinct offsets that
    /// counter asked on this path. `every` is the call's number among every caller's.
    fn count<'p>(
        &self,
        call: CallFacts<'_>,
        params: impl FnOnce() -> &'p Params,
        every: u64,
    ) -> (u64, Option<u64>) {
        let rule = &self.rule;
        if rule.page.is_none() && rule.counted_per() == CountPer::Server {
            return (every, None);
        }
        let counter = match rule.counted_per() {
            CountPer::Server => Counter::Server,
            CountPer::Integration => Counter::Integration(call.integration.map(str::to_owned)),
            CountPer::Connection => Counter::Connection(call.connection),
        };
        let mut counts = self
            .counted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() >= 2 * KEPT_CONNECTIONS && rule.counted_per() == CountPer::Connection {
            // Clients that open a connection a request (Duo's Python client does) would grow the
            // map without end: forget connections opened before the last KEPT_CONNECTIONS.
            let oldest = call.connection.saturating_sub(KEPT_CONNECTIONS as u64);
            counts.retain(|counter, _| !matches!(counter, Counter::Connection(id) if *id < oldest));
        }
        let counted = counts.entry(counter).or_default();
        counted.calls += 1;
        let page = rule.page.map(|_| {
            let offset = params()
                .first("offset")
                .map_or_else(|| "0".to_owned(), |o| String::from_utf8_lossy(o).into_owned());
            let asked = counted.pages.entry(call.path.to_owned()).or_default();
            let at = asked.iter().position(|o| *o == offset).unwrap_or_else(|| {
                asked.push(offset);
                asked.len() - 1
            });
            at as u64 + 1
        });
        (counted.calls, page)
    }
}

/// Whether every parameter of `wanted` is in the request and its (first) decoded value matches
/// the pattern; a parameter the request does not send never matches.
fn query_matches<'p>(wanted: &BTreeMap<String, String>, params: impl FnOnce() -> &'p Params) -> bool {
    if wanted.is_empty() {
        return true;
    }
    let params = params();
    wanted.iter().all(|(name, pattern)| {
        params
            .first(name)
            .is_some_and(|value| glob_matches(pattern, &String::from_utf8_lossy(value)))
    })
}

/// Applies the first fault rule that fires, else passes the request on to `next` (the rest of the
/// app). Part of the outer layer (`routes::app`).
pub async fn apply<F, Fut>(state: &AppState, request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let world = state.world();
    if world.faults.is_empty() {
        return next(request).await;
    }
    let integration = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| duo_auth::parse_authorization(v.as_bytes()).ok())
        .and_then(|c| world.credential(c.ikey()).map(|c| c.name.clone()));
    let connection = request
        .extensions()
        .get::<Arc<ConnectionFault>>()
        .map_or(0, |c| c.id());
    let selected = world.faults.select(CallFacts {
        method: request.method().as_str(),
        path: request.uri().path(),
        query: request.uri().query().unwrap_or(""),
        integration: integration.as_deref(),
        connection,
    });
    let Some((index, live)) = selected else {
        return next(request).await;
    };
    let rule = &live.rule;
    live.fired.fetch_add(1, Ordering::Relaxed);
    tracing::info!(fault = %live.name, path = request.uri().path(), "fault rule fired");
    if let Some(ms) = rule.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let seq = live.calls_seen.load(Ordering::Relaxed) ^ (index as u64) << 48;
    let mut request = request;
    if let Some(rewrite) = rule.rewrite_date {
        rewrite_date(request.headers_mut(), rewrite);
    }
    // A rule that answers in Duo's place keeps the request from the auth layer: the journal still
    // learns who signed it and whether the signature held, from the same checks.
    let answers_itself = rule.duo_error.is_some()
        || rule.intermediary.is_some()
        || rule.status.is_some()
        || matches!(rule.network, Some(Network::Reset | Network::CloseBeforeAnswer));
    let caller = if answers_itself && state.journal().is_observing() {
        let (parts, body) = request.into_parts();
        let body = crate::auth::read_body_quietly(state, body).await;
        let tag = crate::auth::inspect(state, &parts, body.as_ref());
        request = Request::from_parts(parts, body.map_or_else(Body::empty, Body::from));
        Some(tag)
    } else {
        None
    };
    let mut response = if let Some(code) = rule.duo_error {
        let message = rule
            .message
            .clone()
            .or_else(|| ApiError::standard_message(code).map(str::to_owned))
            .unwrap_or_default();
        let mut response = ApiError::custom(code, message).into_response();
        if let Some(seconds) = rule.retry_after_s {
            let value = match rule.retry_after_format.unwrap_or(RetryAfterFormat::Seconds) {
                RetryAfterFormat::Seconds => seconds.to_string(),
                RetryAfterFormat::HttpDate => http_date(state.now().saturating_add_unsigned(seconds)),
            };
            if let Ok(value) = HeaderValue::try_from(value) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    } else if let Some(profile) = rule.intermediary {
        canned(profile.answer(seq))
    } else if let Some(status) = rule.status {
        canned(Canned {
            status,
            headers: rule.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            body: live.custom_body.to_vec(),
        })
    } else if let Some(kind) = rule.malformed {
        malformed(kind, next(request).await).await
    } else if !rule.drift.is_empty() {
        drifted(&rule.drift, next(request).await).await
    } else if let Some(kind) = rule.network {
        let rate = rule.trickle_bytes_per_s.unwrap_or(DEFAULT_TRICKLE_BYTES_PER_S);
        network(kind, rate, request, next).await
    } else {
        next(request).await
    };
    response.extensions_mut().insert(FaultTag(live.name.clone()));
    if let Some(caller) = caller {
        response.extensions_mut().insert(caller);
    }
    response
}

/// Largest request body read before a close without an answer (as the auth middleware's).
const MAX_DRAINED_BODY: usize = 1 << 20;

/// Arms the connection's network fault and returns the answer it applies to. For a reset or a
/// close before the answer, the app is not run (nothing is changed) and the answer, never written,
/// is 444 (nginx's "no response"), which is what the journal shows; a cut or trickled answer is
/// journaled with the real answer's status.
async fn network<F, Fut>(kind: Network, bytes_per_s: u64, request: Request, next: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(connection) = request.extensions().get::<Arc<ConnectionFault>>().cloned() else {
        tracing::warn!(
            network = kind.name(),
            "network fault on a request not served by server::run: answering normally"
        );
        return next(request).await;
    };
    match kind {
        Network::Reset | Network::CloseBeforeAnswer => {
            // Read the request as a server would: unread bytes at close would turn a FIN into RST.
            let _ = axum::body::to_bytes(request.into_body(), MAX_DRAINED_BODY).await;
            connection.arm(if kind == Network::Reset {
                Cut::Reset
            } else {
                Cut::CloseBeforeAnswer
            });
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::from_u16(444).unwrap_or(StatusCode::BAD_GATEWAY);
            response
        }
        Network::CloseMidBody => {
            let head_only = request.method() == Method::HEAD;
            let (mut parts, body) = body_of(next(request).await).await;
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
            let body_bytes = if head_only { 0 } else { body.len() as u64 / 2 };
            connection.arm(Cut::CloseMidBody { body_bytes });
            Response::from_parts(parts, Body::from(body))
        }
        Network::Trickle => {
            let response = next(request).await;
            connection.arm(Cut::Trickle { bytes_per_s });
            response
        }
    }
}

/// Changes the date headers as a rewriting framework or proxy would.
fn rewrite_date(headers: &mut axum::http::HeaderMap, rewrite: RewriteDate) {
    for name in ["x-duo-date", "date"] {
        match rewrite {
            RewriteDate::Remove => {
                headers.remove(name);
            }
            RewriteDate::Reformat => {
                let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) else {
                    continue;
                };
                let reformatted = if value.ends_with("-0000") || value.ends_with("+0000") {
                    format!("{} GMT", &value[..value.len() - 6])
                } else {
                    duo_auth::date::parse_date(value)
                        .map_or_else(|| value.to_owned(), duo_auth::date::format_date)
                };
                if let Ok(value) = HeaderValue::try_from(reformatted) {
                    headers.insert(name, value);
                }
            }
        }
    }
}

fn canned(answer: Canned) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The IMF-fixdate of unix seconds: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(unix: i64) -> String {
    duo_auth::date::format_date(unix).replace("-0000", "GMT")
}

async fn body_of(response: Response) -> (axum::http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    (parts, bytes)
}

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn malformed(kind: Malformed, real: Response) -> Response {
    match kind {
        Malformed::InvalidJson => json_response(StatusCode::OK, "{\"response\": [{\"user_id\": \"DU"),
        Malformed::StatNotOk => json_response(StatusCode::OK, "{\"response\":[],\"stat\":\"ERROR\"}"),
        Malformed::MissingResponse => json_response(StatusCode::OK, "{\"stat\":\"OK\"}"),
        Malformed::Truncated => {
            let (mut parts, body) = body_of(real).await;
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body.slice(..body.len() / 2)))
        }
    }
}

async fn drifted(drift: &[Drift], real: Response) -> Response {
    let (mut parts, body) = body_of(real).await;
    let Ok(mut value) = serde_json::from_slice::<Value>(&body) else {
        return Response::from_parts(parts, Body::from(body));
    };
    if drift.contains(&Drift::ExtraFields)
        && let Some(envelope) = value.as_object_mut()
    {
        envelope.insert("trace_id".into(), Value::from("3f1c2a9e-drift"));
    }
    for_each_object(&mut value["response"], &mut |o| drift_object(drift, o));
    let mut out = Vec::with_capacity(body.len() + 256);
    if drift.contains(&Drift::ReorderedKeys) {
        write_reversed(&value, &mut out);
    } else if serde_json::to_writer(&mut out, &value).is_err() {
        out = body.to_vec();
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(out))
}

/// The change `drift` makes to each object of an answer (key order aside, which only the
/// serialization changes). Public so that ground truth for a drifted scenario is computed by the
/// same code that drifts the answers.
pub fn drift_object(drift: &[Drift], object: &mut serde_json::Map<String, Value>) {
    for d in drift {
        match d {
            Drift::ExtraFields => {
                object.insert("x_new_property".into(), serde_json::json!({"added": "by drift"}));
                object.insert("risk_score".into(), Value::from(0.25));
            }
            Drift::NewEnumValues => {
                if object.contains_key("status") {
                    object.insert("status".into(), Value::from("quarantined"));
                }
                if object.contains_key("role") {
                    object.insert("role".into(), Value::from("Compliance Auditor"));
                }
            }
            Drift::Nulls => {
                for key in [
                    "realname",
                    "firstname",
                    "lastname",
                    "email",
                    "last_login",
                    "phone",
                    "desc",
                    "notes",
                ] {
                    if let Some(value) = object.get_mut(key) {
                        *value = Value::Null;
                    }
                }
            }
            Drift::ReorderedKeys => {}
        }
    }
}

/// Applies `f` to the object, or to each object of the array.
fn for_each_object(value: &mut Value, f: &mut impl FnMut(&mut serde_json::Map<String, Value>)) {
    match value {
        Value::Object(o) => f(o),
        Value::Array(items) => items.iter_mut().filter_map(Value::as_object_mut).for_each(f),
        _ => {}
    }
}

/// JSON with every object's keys in reverse order (serde_json's map is sorted).
fn write_reversed(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(o) => {
            out.push(b'{');
            for (i, (k, v)) in o.iter().rev().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                crate::model::write_str(out, k);
                out.push(b':');
                write_reversed(v, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_reversed(v, out);
            }
            out.push(b']');
        }
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shell_stars() {
        assert!(glob_matches("*", "/admin/v1/users"));
        assert!(glob_matches("/admin/v1/users", "/admin/v1/users"));
        assert!(!glob_matches("/admin/v1/users", "/admin/v1/users/DU1"));
        assert!(glob_matches("/admin/v1/users*", "/admin/v1/users/DU1/groups"));
        assert!(glob_matches("/admin/*/groups*", "/admin/v2/groups/DG1/users"));
        assert!(glob_matches("*/users", "/admin/v2/groups/DG1/users"));
        assert!(!glob_matches("*/users", "/admin/v2/groups/DG1/users/x"));
    }

    #[test]
    fn counts_per_connection_stay_bounded_and_keep_recent_connections() {
        let rule: FaultRule =
            toml::from_str("calls = [1, 1]\ncount_per = \"connection\"\nduo_error = 50000\n").expect("rule");
        let set = FaultSet::new(&[rule], Path::new("."), 1);
        let call = |connection| CallFacts {
            method: "GET",
            path: "/admin/v1/users",
            query: "",
            integration: None,
            connection,
        };
        let connections = 5 * KEPT_CONNECTIONS as u64;
        for connection in 1..=connections {
            assert!(
                set.select(call(connection)).is_some(),
                "a new connection's first call"
            );
        }
        let kept = set.rules[0].counted.lock().expect("lock").len();
        assert!(kept <= 2 * KEPT_CONNECTIONS, "{kept} counters kept");
        assert!(
            set.select(call(connections)).is_none(),
            "the newest connection's second call"
        );
    }

    #[test]
    fn seeded_draws_are_stable_and_spread() {
        let set = FaultSet::new(&[], Path::new("."), 42);
        let draws: Vec<f64> = (1..=1000).map(|n| set.draw(0, n)).collect();
        assert_eq!(draws, (1..=1000).map(|n| set.draw(0, n)).collect::<Vec<_>>());
        let below_half = draws.iter().filter(|d| **d < 0.5).count();
        assert!((400..600).contains(&below_half), "{below_half}");
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
    }
}
